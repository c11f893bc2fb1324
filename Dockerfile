# Astro CLI (`astro dev start`): Astro Runtime 3.3 is Airflow 3.3 on Python 3.12, as MWAA 3.3.1. The runtime's
# build steps install packages.txt (none needed: tasks only call AWS) and requirements.txt (MWAA's constraint
# line included). dags/, include/ and plugins/ are where Astro expects them; airflow_settings.yaml is
# imported at start; docker-compose.override.yml adds the local AWS server (service `aws`).
FROM astrocrpublic.azurecr.io/runtime:3.3-1
