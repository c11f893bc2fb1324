# Airflow as MWAA runs it (3.3.1) with this project's provider pins.
FROM apache/airflow:3.3.1-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
