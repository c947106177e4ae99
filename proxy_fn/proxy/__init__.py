"""In-VPC proxy: turns an API Gateway REST proxy (payload 1.0) event into a request to the private backend."""
