"""Calls the platform's own trainers make are not reported: create_export_metadata takes extra
keyword arguments (sdk-api.json `x-var-keyword`), and a misspelt parameter of a method without
them still is."""

from __future__ import annotations

from trainer_tools.trainer_lint import lint_source

CALL = """from trainer_sdk import TrainerSDK

sdk = TrainerSDK()
metadata = sdk.create_export_metadata(
    framework='ultralytics', model_name='best', export_format='onnx',
    task_type='instance_segmentation', input_shape=[640, 640, 3], output_shape=[[1, 84, 8400]],
    export_config={'opset': 17}, export_info={'file_size_mb': 12.5},
)
sdk.upload_file('plot.png', 'job1/plot.png', content_typ='image/png')
"""


def test_extra_keywords_are_accepted_only_where_the_method_takes_them() -> None:
    findings = [(f.code, f.line, f.message) for f in lint_source(CALL, "export.py", entry=False)]
    assert [(code, line) for code, line, _ in findings] == [("TRL014", 9)]
    assert "upload_file() has no parameter `content_typ`" in findings[0][2]
