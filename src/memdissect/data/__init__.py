"""The data sets: the catalogue of the sets memdissect knows, their images as uint8 tensors, the embedded synthetic
set, the label sets.

- catalogue: The data sets whose classes are known before any image is read (torch-free): their class names, and for
  torchvision's data sets where torchvision keeps them and how many images they hold.
- folders: Facts of a data set's folder that the plan and data preparation both read: whether the user's own copy
  is there, its classes and images per class, the images training will read, and whether a torchvision data set's
  folder is complete.
- labels: Label sets: the true labels with a fraction p replaced by uniformly random ones.
- synthetic: The embedded synthetic data set: ten classes of simple shapes, drawn from a seed.
- tensors: Data sets turned once into uint8 tensors, the form training reads.
"""
