"""What the benchmark scripts share: their headline figure and the run that regenerates the README's table."""
