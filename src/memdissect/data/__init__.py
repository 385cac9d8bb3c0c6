"""The data sets: the catalogue of the sets memdissect knows, their images as uint8 tensors, the embedded synthetic
set, the label sets.

- catalogue: The data sets whose classes are known before any image is read (torch-free): their class names, and for
  torchvision's data sets where torchvision keeps them and how many images they hold.
- labels: Label sets: the true labels with a fraction p replaced by uniformly random ones.
- synthetic: The embedded synthetic data set: ten classes of simple shapes, drawn from a seed.
- tensors: Data sets turned once into uint8 tensors, the form training reads.
"""
