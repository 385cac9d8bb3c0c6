# results/figures: Figures 1 to 5 of the paper, the Dist matrices and the cross-check figure.


localrules:
    dist_matrix_figure,
    crosscheck_figure,


# Figures 1 to 5: one rule each, alike but for the number.
for number in range(1, 6):

    rule:
        name:
            f"figure{number}"
        input:
            unpack(inputs_of(f"figure{number}")),
        output:
            pdf=outputs_of(f"figure{number}")["pdf"],
            png=report(
                outputs_of(f"figure{number}")["png"],
                caption=f"../report/figure{number}.rst",
                category="Figures",
                labels={"figure": str(number)},
            ),
        log:
            f"logs/figures/figure{number}.log",
        localrule: True
        conda:
            ENV
        params:
            **params_of(f"figure{number}", "spec"),
            script=f"figure{number}",  # the script path is read when the job runs, after the loop: not {number}
        script:
            "../scripts/{params.script}.py"


rule dist_matrix_figure:
    input:
        unpack(inputs_of("dist_matrix_figure")),
    output:
        pdf=outputs_of("dist_matrix_figure", condition="{condition}")["pdf"],
        png=report(
            outputs_of("dist_matrix_figure", condition="{condition}")["png"],
            caption="../report/dist_matrix.rst",
            category="Figures",
            labels={"figure": "Dist matrix", "condition": "{condition}"},
        ),
    log:
        "logs/figures/dist_matrix_{condition}.log",
    conda:
        ENV
    script:
        "../scripts/dist_matrix_figure.py"


rule crosscheck_figure:
    input:
        unpack(inputs_of("crosscheck_figure")),
    output:
        pdf=outputs_of("crosscheck_figure")["pdf"],
        png=report(
            outputs_of("crosscheck_figure")["png"],
            caption="../report/crosscheck_figure.rst",
            category="Figures",
            labels={"figure": "Cross-checks"},
        ),
    log:
        "logs/figures/crosscheck.log",
    conda:
        ENV
    params:
        **params_of("crosscheck_figure", "spec"),
    script:
        "../scripts/crosscheck_figure.py"
