"""`make generate`: compile `schemas/` into the `trainer_contract` package under `generated/`.

Every output file is produced by one target module in `trainer_tools.codegen.targets`; a target
is a function of the loaded schemas only, so two runs give identical bytes (no timestamps, sorted
or schema order everywhere). `python -m trainer_tools.codegen --check` regenerates into a
temporary folder and fails on any difference with the committed `generated/`.
"""
