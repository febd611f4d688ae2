"""Request and response bodies, in families per resource (`XCreate`, `XRead`, `XPage`)."""
