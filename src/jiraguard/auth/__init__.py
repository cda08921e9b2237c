"""The request path's authentication steps, one module each.

See docs/architecture.md, "The path of a request".
"""
