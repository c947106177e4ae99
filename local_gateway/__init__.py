"""Runs the deployed request path on one machine: template.yaml's own mapping templates around proxy_fn."""
