"""Site-wide pages around the client databases: error pages, the client's start URL."""
