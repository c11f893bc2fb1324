# Airflow as MWAA 3.3.1 runs it: Python 3.12, and requirements.txt installed with its MWAA constraint line.
FROM apache/airflow:3.3.1-python3.12
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt
