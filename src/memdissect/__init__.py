"""memdissect: neural network memorization dissection.

The science lives here as functions of tensors and small typed settings. Nothing in this
package knows about the workflow engine; the workflow's rule scripts are thin adapters around it.
Importing the package itself does not import torch, so the workflow can read configs cheaply.
"""

__version__ = "0.1.0"
