"""Evidence: terminal progress and summary, JSON per test, HTML timeline, JUnit properties."""
