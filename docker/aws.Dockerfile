# The local AWS server (moto + real compute) for docker-compose and Astro: Python, Java for PySpark, Chromium.
# Installed as `make setup` installs it: requirements.txt without MWAA's constraint line (that line is for MWAA's
# Python 3.12 image), then requirements-dev.txt.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends default-jre-headless chromium chromium-driver \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /project
COPY requirements.txt requirements-dev.txt ./
RUN sed '/^--constraint/d' requirements.txt > requirements-mwaa.txt \
 && pip install --no-cache-dir -r requirements-mwaa.txt -r requirements-dev.txt
