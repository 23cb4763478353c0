"""Pure computational core of napari-milna: nibabel images and numpy arrays in, dataclasses out.

Nothing in this package imports Qt or napari.
"""
