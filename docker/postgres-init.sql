-- Databases of the docker-compose platform: Airflow's metadata and one per PostgreSQL connection.
CREATE DATABASE airflow;
CREATE DATABASE retail_postgres;
CREATE DATABASE aurora_vn_stock;
