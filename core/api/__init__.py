"""What every API view shares, one module per concern: auth, errors, fields, filters,
pagination, throttles, versions (ETags), caching and schema."""
