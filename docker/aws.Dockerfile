# The local AWS server (moto + real compute) for docker-compose: Python, Java for PySpark, Chromium.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends default-jre-headless chromium chromium-driver \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /project
COPY requirements.txt requirements-dev.txt ./
RUN pip install --no-cache-dir -r requirements-dev.txt
