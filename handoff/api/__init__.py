"""HTTP plumbing shared by the API functions: request decoding and error responses."""
