"""What staff do, as plain typed functions that the CLI, the scheduler and the web console all call."""
