"""Token validators: one class per method behind :class:`~.base.TokenValidator`."""
