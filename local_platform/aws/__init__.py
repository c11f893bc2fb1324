"""A moto server that also computes: Lambda, Glue jobs and crawlers, and Redshift Data run for real."""
