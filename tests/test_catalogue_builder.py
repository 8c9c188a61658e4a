"""The TensorRT builder's front ends — trtexec, Polygraphy, DeepStream's nvinfer and DeepStream-Yolo,
TensorRT's ONNX parser — in each release's wording, and the ranking of their wrappers ('Engine could
not be created from network', 'Failed to parse onnx file') below the cause they wrap.  Every line is
written from the catalogue's templates with the prefixes the sources add (trtexec's `[E] `, nvinfer's
gst logger, the parser's `ModelImporter.cpp:N: `), origins beside each case; none is taken from a
frozen evaluation log."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, explain_text, explain_ids as ids, assert_names_first
from trtdiag.logscan.templates import catalogue


def test_the_builder_families_carry_their_releases():
    fams = {}
    for m in catalogue():
        fams.setdefault(m["family"], []).append(m)
    assert {"trtexec", "polygraphy", "deepstream"} <= set(fams)
    origins = {m["origin"].split(":")[0] for f in ("trtexec", "polygraphy") for m in fams[f]} | \
              {m["first"] for f in ("trtexec", "polygraphy") for m in fams[f]}
    assert "NVIDIA/TensorRT@v8.6.1" in origins and "NVIDIA/TensorRT@v11.1" in origins
    ds = {m["first"] for m in fams["deepstream"]} | {m["origin"].split(":")[0] for m in fams["deepstream"]}
    assert "hiennguyen9874/deepstream-sources@6.0.1" in ds and "hiennguyen9874/deepstream-sources@6.3" in ds


CASES = [
    # NVIDIA/TensorRT samples/trtexec/trtexec.cpp: gLogError << "Unknown option: " << arg.first << " " << value
    ("[12/01/2026-10:00:00] [E] Unknown option: --workspace 4096", "trtexec-option-unknown", {"option": "--workspace", "value": "4096"}),
    ("[12/01/2026-10:00:00] [E] Unknown option: --fp16 ", "trtexec-option-unknown", {"option": "--fp16"}),
    # samples/common/sampleEngines.cpp saveEngine() / loadEngineToBuildEnv()
    ("[12/01/2026-10:00:00] [E] Cannot open engine file: /models/out/model.plan", "trt-engine-save-failed", {"path": "/models/out/model.plan"}),
    ("[12/01/2026-10:00:00] [E] Error opening engine file: model.trt", "engine-file-not-found", {"path": "model.trt"}),
    # onnx/onnx-tensorrt onnxProtoUtils.hpp / ModelImporter.cpp
    ("Could not open file /work/model.onnx", "trt-model-file-missing", {"path": "/work/model.onnx"}),
    ("[12/01/2026-10:00:00] [E] [TRT] ModelImporter.cpp:902: Input is not a regular file: /work/models", "trt-model-file-missing", {"path": "/work/models"}),
    ("[12/01/2026-10:00:00] [E] [TRT] ModelImporter.cpp:914: Failed to parse ONNX model from file: /work/model.onnx!", "trt-onnx-parse-failed", {}),
    # Polygraphy backend/trt/util.py
    ("[!] Could not parse ONNX correctly", "trt-onnx-parse-failed", {}),
    # DeepStream nvdsinfer (gst logger prefix as nvinfer prints it)
    ("0:00:01.0 100 0x1 ERROR nvinfer gstnvinfer.cpp:676:gst_nvinfer_logger:<primary_gie> NvDsInferContext[UID 1]: Error in NvDsInferContextImpl::buildModel() <nvdsinfer_context_impl.cpp:2121> [UID = 1]: Cannot access ONNX file '/opt/models/yolov8s.onnx'",
     "trt-model-file-missing", {"path": "/opt/models/yolov8s.onnx"}),
    ("ERROR: [TRT]: Could not find Custom Engine Creation Function 'NvDsInferYoloCudaEngineGet' in custom lib", "deepstream-custom-function-missing", {"function": "NvDsInferYoloCudaEngineGet"}),
    ("0:00:02.0 100 0x1 ERROR nvinfer gstnvinfer.cpp:676:gst_nvinfer_logger:<secondary_gie_0> NvDsInferContext[UID 2]: Error in NvDsInferContextImpl::initResource() <nvdsinfer_context_impl.cpp:890> [UID = 2]: Failed to init classify-postprocessor because dlsym failed to get func NvDsInferClassiferParseCustomSoftmax pointer",
     "deepstream-custom-function-missing", {"function": "NvDsInferClassiferParseCustomSoftmax"}),
    ("ERROR: Darknet cfg file does not exist /opt/yolo/yolov4.cfg", "trt-model-file-missing", {"path": "/opt/yolo/yolov4.cfg"}),
]


@pytest.mark.parametrize("line,expect,fields", CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_builder_front_end_messages_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


def test_wrappers_rank_after_the_builder_error_they_follow():
    log = ("[E] [TRT] Network has dynamic or shape inputs, but no optimization profile has been defined.\n"
           "[E] [TRT] Network validation failed.\n"
           "[E] Engine could not be created from network\n"
           "[E] Building engine failed\n"
           "[E] Failed to create engine from model or file.\n"
           "[E] Engine set up failed\n")
    got = ids(log)
    assert got[0] == "trt-no-optimization-profile" and "trt-engine-build-failed" in got, got
    log = ("Could not open file yolov8s.onnx\n"
           "[E] [TRT] ModelImporter.cpp:914: Failed to parse ONNX model from file: yolov8s.onnx!\n"
           "[E] Failed to parse onnx file\n"
           "[E] Parsing model failed\n")
    assert ids(log)[:2] == ["trt-model-file-missing", "trt-onnx-parse-failed"], ids(log)


def test_a_failed_build_alone_is_still_named_as_a_consequence():
    ranked = explain_text("[E] Engine could not be created from network\n[E] Building engine failed\n")
    assert [h.entry_id for h in ranked] == ["trt-engine-build-failed"]


def test_healthy_builder_lines_are_quiet():
    log = (
        # samples/common timing cache on the first build; trtexec 8.x's deprecation warning
        "[W] Could not read timing cache from: timing.cache. A new timing cache will be generated and written.\n"
        "[W] --workspace flag has been deprecated by --memPoolSize flag.\n"
        # Polygraphy's timing cache fallback
        "[W] Timing cache file timing.cache not found, falling back to empty timing cache.\n"
        # nvinfer's first start: no engine file yet, it builds one and may not write it if not permitted
        "WARNING: ../nvdsinfer/nvdsinfer_model_builder.cpp:1487 Deserialize engine failed because file path: /opt/m/model_b1_gpu0_fp16.engine open error\n"
        "0:00:05.0 1 0x1 INFO nvinfer gstnvinfer.cpp:682:gst_nvinfer_logger:<primary_gie> NvDsInferContext[UID 1]: Info from NvDsInferContextImpl::buildModel() <nvdsinfer_context_impl.cpp:2106> [UID = 1]: Trying to create engine from model files\n"
        "[W] [TRT] Tactic Device request: 600MB Available: 302MB. Device memory is insufficient to use tactic.\n"
        "[W] [TRT] UNSUPPORTED_STATE: Skipping tactic 33 due to insufficient memory on requested size of 629145600 detected for tactic 0xa5a46bfbd719d757.\n"
    )
    assert ids(log) == []


def test_a_deepstream_engine_it_cannot_write_is_a_warning():
    line = ("WARNING: ../nvdsinfer/nvdsinfer_model_builder.cpp:1248 Serialize engine failed because of file path: "
            "/opt/nvidia/deepstream/deepstream/samples/models/model_b1_gpu0_fp16.engine opened error\n")
    ranked = explain_text(line)
    assert [h.entry_id for h in ranked] == ["trt-engine-save-failed"]
    assert not ranked[0].fatal


def test_the_trtexec_option_table_follows_the_releases():
    data = json.loads((REPO / "trtdiag" / "data" / "trtexec_options.json").read_text())
    rel = data["releases"]
    assert "--workspace" in rel["v8.6.1"]["options"] and "--workspace" not in rel["v10.0.1"]["options"]
    assert "--memPoolSize" in rel["v10.0.1"]["options"]
    assert "--fp16" in rel["v10.16"]["options"] and "--fp16" not in rel["v11.1"]["options"]
    removed = {c["to"]: c["removed"] for c in data["changes"]}
    assert {"--workspace", "--explicitBatch", "--maxBatch", "--buildOnly"} <= set(removed["v10.0.1"])
    assert all(r["origin"].startswith("NVIDIA/TensorRT@") for r in rel.values())


# Written from the templates of the sources (the origins in the catalogue), with the prefixes the programs add.
BUILD_API_CASES = [
    # NVIDIA/TensorRT samples/common/sampleEngines.cpp (setupNetworkAndConfig: SMP_RETVAL_IF_FALSE) and sampleOptions.cpp
    ("[12/01/2026-10:00:00] [E] Required optimization profile is invalid", "trt-build-profile-invalid", {}),
    ("[12/01/2026-10:00:00] [E] Error in set dimensions to profile OPT", "trt-build-profile-invalid", {}),
    ('[12/01/2026-10:00:00] [E] Cannot find input tensor with name "input" in the network inputs! Please make sure the input tensor names are correct.',
     "trt-build-profile-invalid", {"tensor": "input"}),
    ("[12/01/2026-10:00:00] [E] [TRT] Can not open provided calibration cache file", "trt-int8-calibration-failed", {}),
    # Polygraphy backend/trt/profile.py and calibrator.py (G_LOGGER.critical: '[!] ')
    ("[!] Invalid inputs were provided to the optimization profile: {'input'}\n    Note: Inputs available in the TensorRT network are: {'images'}",
     "trt-build-profile-invalid", {"inputs": "{'input'}", "network_inputs": "{'images'}"}),
    ("[!] Calibrator data loader provided no data.", "trt-int8-calibration-failed", {}),
    # samples/python (OnnxParser.parse returned False)
    ("ERROR: Failed to parse the ONNX file.", "trt-onnx-parse-failed", {}),
    # onnx/onnx-tensorrt@8.6-GA … 9.3 ModelImporter.cpp (the implicit-batch network) and the importers' support checks
    ('[12/01/2026-10:00:00] [E] [TRT] ModelImporter.cpp:771: ERROR: ModelImporter.cpp:531 In function importModel:\n'
     '[4] Assertion failed: !mImporterCtx.network()->hasImplicitBatchDimension() && "This version of the ONNX parser only supports TensorRT '
     'INetworkDefinitions with an explicit batch dimension. Please ensure the network was created using the EXPLICIT_BATCH NetworkDefinitionCreationFlag."',
     "trt-onnx-implicit-batch-network", {}),
    ("[12/01/2026-10:00:00] [E] [TRT] ModelImporter.cpp:949: ERROR: onnxOpImporters.cpp:5322 In function importSlice:\n"
     "[8] Assertion failed: (axes.allValuesKnown()) && \"This version of TensorRT does not support dynamic axes.\"",
     "trt-onnx-parse-failed", {}),
    ("[12/01/2026-10:00:00] [E] [TRT] ModelImporter.cpp:949: ERROR: importerUtils.cpp:1244 In function importInstanceNorm:\n"
     "[8] Assertion failed: plugin != nullptr && \"InstanceNormalization plugin was not found in the plugin registry!\"",
     "trtllm-plugin-not-found", {}),
    # tensorrt-lean 10.15 … 11.4 (runtime/api/executionContext.cpp: setInputShape, enqueueV3)
    ("[12/01/2026-10:00:00] [E] [TRT] IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, condition: satisfyProfile. "
     "Set dimension [1,3,1280,1280] for tensor images does not satisfy any optimization profiles. Valid range for profile 0: [1,3,320,320]..[1,3,640,640].)",
     "trt-shape-outside-profile", {}),
    ("[12/01/2026-10:00:00] [E] [TRT] IExecutionContext::enqueueV3: Error Code 3: API Usage Error (Parameter check failed, condition: "
     "mContext.profileObliviousBindings.at(profileObliviousIndex) || getPtrOrNull(mOutputAllocators, profileObliviousIndex). Neither address or allocator "
     "is set for output tensor output0. Call setOutputTensorAddress, setTensorAddress or setOutputAllocator before enqueue/execute.)",
     "trt-io-tensor-not-set", {"tensor": "output0"}),
    # NVIDIA/TensorRT python/src: what 10.x and 11.x no longer define (tools/trt_python_removed.py), CPython 3.11's AttributeError
    ("AttributeError: type object 'tensorrt_bindings.tensorrt.BuilderFlag' has no attribute 'FP16'", "trt-python-api-removed", {"attr": "FP16"}),
    ("AttributeError: type object 'tensorrt.tensorrt.BuilderFlag' has no attribute 'STRICT_TYPES'", "trt-python-api-removed", {"attr": "STRICT_TYPES"}),
    ("AttributeError: module 'tensorrt' has no attribute 'IInt8EntropyCalibrator2'", "trt-python-api-removed", {"attr": "IInt8EntropyCalibrator2"}),
    ("AttributeError: 'tensorrt_bindings.tensorrt.IBuilderConfig' object has no attribute 'int8_calibrator'", "trt-python-api-removed", {"attr": "int8_calibrator"}),
    ("AttributeError: 'tensorrt_bindings.tensorrt.IConvolutionLayer' object has no attribute 'precision'", "trt-python-api-removed", {"attr": "precision"}),
]


@pytest.mark.parametrize("line,expect,fields", BUILD_API_CASES, ids=[f"{c[1]}-{i}" for i, c in enumerate(BUILD_API_CASES)])
def test_builder_runtime_and_parser_wordings_name_their_cause(line, expect, fields):
    assert_names_first(line, expect, fields)


def test_an_onnx_op_without_importer_is_not_a_missing_trtllm_plugin():
    log = ("[I] [TRT] No importer registered for op: MMCVModulatedDeformConv2d. Attempting to import as plugin.\n"
           "[I] [TRT] Searching for plugin: MMCVModulatedDeformConv2d, plugin_version: 1, plugin_namespace: \n"
           "[E] [TRT] 3: getPluginCreator could not find plugin: MMCVModulatedDeformConv2d version: 1\n"
           "[E] [TRT] ModelImporter.cpp:773: While parsing node number 3 [MMCVModulatedDeformConv2d -> \"onnx::Add_123\"]:\n"
           "[E] [TRT] ModelImporter.cpp:779: ERROR: builtin_op_importers.cpp:5404 In function importFallbackPluginImporter:\n"
           "[8] Assertion failed: creator && \"Plugin not found, are the plugin name, version, and namespace correct?\"\n"
           "[E] Failed to parse onnx file\n")
    assert ids(log)[0] == "onnx-op-unsupported", ids(log)


def test_healthy_parser_and_calibration_lines_are_quiet():
    log = ("[I] [TRT] No checker registered for op: EfficientNMS_TRT. Attempting to check as plugin.\n"
           "[I] [TRT] Searching for plugin: EfficientNMS_TRT, plugin_version: 1, plugin_namespace: \n"
           "[I] [TRT] Successfully created plugin: EfficientNMS_TRT\n"
           "[W] Int8 calibrator not provided. Generating dummy per-tensor dynamic range. Int8 accuracy is not guaranteed.\n"
           "[W] [TRT] TensorRT supports ONNX graphs generated with at least opset 7. Models using older opsets are not guaranteed to work.\n"
           "[W] Could not write timing cache to: /cache/timing.cache\n")
    assert ids(log) == []
