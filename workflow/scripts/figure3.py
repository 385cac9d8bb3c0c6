"""Figure 3: G(z0), then the patterns x* of some classes, same starts per column."""

from job import inputs_by_role, start

from memdissect.dissection.patterns import read_pattern_file
from memdissect.report.figures import class_indices, plot_patterns, readable_name, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
patterns = {
    condition: read_pattern_file(path, made_by=maker_of(path))
    for condition, path in inputs_by_role(snakemake, "patterns").items()
}
first = next(iter(patterns.values()))
classes = first.classes
panels = [
    (f"{spec['network']}, {readable_name(condition)}", p.x0, p.x)
    for condition, p in patterns.items()
]
columns = min(spec["columns"], first.starts)
fig = plot_patterns(panels, class_indices(spec["classes"], classes), classes, columns)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
