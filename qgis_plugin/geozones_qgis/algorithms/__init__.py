"""The Processing algorithms of the geozones provider, one module per geozones task."""
