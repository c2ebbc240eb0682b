class Size(tuple):
    """The shape of a tensor: a tuple of ints, printed like ``loom.Size([2, 3])``."""

    def __repr__(self):
        return f"loom.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))
