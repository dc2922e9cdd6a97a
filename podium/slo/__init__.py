"""Service level objectives as data: the model, the error-budget math and Prometheus rules."""
