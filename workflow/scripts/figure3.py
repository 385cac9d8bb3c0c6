"""Figure 3: G(z0), then the patterns x* of some classes, same starts per column."""

from job import start

from memdissect.figures import class_indices, plot_patterns, readable_name, save_figure
from memdissect.patterns import load_patterns

log, _ = start(snakemake)
spec = snakemake.params.spec
patterns = [load_patterns(path) for path in snakemake.input.patterns]
classes = patterns[0]["classes"]
panels = [(f"{spec['network']}, {readable_name(condition)}", p["x0"], p["x"])
          for condition, p in zip(spec["conditions"], patterns)]
columns = min(spec["columns"], patterns[0]["x"].shape[1])
fig = plot_patterns(panels, class_indices(spec["classes"], classes), classes, columns)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
