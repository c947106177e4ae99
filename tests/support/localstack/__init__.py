"""LocalStack's REST API pipeline as the tests' second engine: runtime.py imports it, corrections.py corrects where it
contradicts AWS's documentation, engine.py runs a request through it."""
