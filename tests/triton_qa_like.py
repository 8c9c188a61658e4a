"""Hand-made model repositories, one per defect class of Triton's own model-configuration tests.

Each case is written here (not copied): small identity-backend models and an ensemble that carry
the same defect as the server test case named in ``mirrors`` (triton-inference-server/server
qa/L0_model_config/…, each with the error tritonserver must log: ``expect``).  The real cases are
run by tools/eval_triton_semantics.py qa and their outcomes kept in tests/data/triton/eval_qa.json.
"""

from __future__ import annotations

QA = "triton-inference-server/server qa/L0_model_config/"


def tensor(name: str, dtype: str = "TYPE_FP32", dims: str = "16", extra: str = "") -> str:
    return f'{{ name: "{name}" data_type: {dtype} dims: [ {dims} ] {extra}}}'


def model(name: str, mbs: int = 4, inputs=(("INPUT0", "TYPE_FP32", "16"),), outputs=(("OUTPUT0", "TYPE_FP32", "16"),),
          backend: str = "identity", decoupled: bool = False, extra: str = "") -> str:
    ins = ", ".join(tensor(*t) for t in inputs)
    outs = ", ".join(tensor(*t) for t in outputs)
    dec = "model_transaction_policy { decoupled: true }\n" if decoupled else ""
    return (f'name: "{name}"\nbackend: "{backend}"\nmax_batch_size: {mbs}\n{dec}input [ {ins} ]\noutput [ {outs} ]\n'
            f"instance_group [ {{ kind: KIND_CPU }} ]\n{extra}")


def step(model_name: str, inputs: dict, outputs: dict, version: int = -1) -> str:
    im = " ".join(f'input_map {{ key: "{k}" value: "{v}" }}' for k, v in inputs.items())
    om = " ".join(f'output_map {{ key: "{k}" value: "{v}" }}' for k, v in outputs.items())
    return f'{{ model_name: "{model_name}" model_version: {version} {im} {om} }}'


def ensemble(name: str, steps: list[str], mbs: int = 4, inputs=(("data", "TYPE_FP32", "16"),),
             outputs=(("prob", "TYPE_FP32", "16"),), extra: str = "", platform: str = 'platform: "ensemble"') -> str:
    ins = ", ".join(tensor(*t) for t in inputs)
    outs = ", ".join(tensor(*t) for t in outputs)
    sched = f"ensemble_scheduling {{ step [ {', '.join(steps)} ] }}\n" if steps is not None else ""
    return f'name: "{name}"\n{platform}\nmax_batch_size: {mbs}\n{sched}input [ {ins} ]\noutput [ {outs} ]\n{extra}'


S1 = step("fp32_b4", {"INPUT0": "data"}, {"OUTPUT0": "temp"})
S2 = step("fp32_b4_2", {"INPUT0": "temp"}, {"OUTPUT0": "prob"})
BASE = {"fp32_b4": model("fp32_b4"), "fp32_b4_2": model("fp32_b4_2")}

CASES: dict[str, dict] = {
    "inconsistent_data_type": {
        "mirrors": "autofill_noplatform/ensemble/inconsistent_data_type",
        "models": {"int32_b4": model("int32_b4", inputs=(("INPUT0", "TYPE_INT32", "16"),), outputs=(("OUTPUT0", "TYPE_INT32", "16"),)),
                   "fp32_b4_2": model("fp32_b4_2"),
                   "e": ensemble("e", [step("int32_b4", {"INPUT0": "data"}, {"OUTPUT0": "temp"}), S2])},
        "expect": "in ensemble e, ensemble tensor data: inconsistent data type: TYPE_FP32 is inferred from model e while TYPE_INT32 is inferred from model int32_b4"},
    "inconsistent_shape": {
        "mirrors": "autofill_noplatform/ensemble/inconsistent_shape",
        "models": {"fp32_b4": model("fp32_b4"), "dim3": model("dim3", inputs=(("INPUT0", "TYPE_FP32", "16, 16, 16"),)),
                   "e": ensemble("e", [S1, step("dim3", {"INPUT0": "temp"}, {"OUTPUT0": "prob"})])},
        "expect": "in ensemble e, ensemble tensor temp: inconsistent shape: [-1,16] is inferred from model fp32_b4 while [-1,16,16,16] is inferred from model dim3"},
    "invalid_batch_size": {
        "mirrors": "autofill_noplatform/ensemble/invalid_batch_size",
        "models": {"fp32_b4": model("fp32_b4"), "fp32_b2": model("fp32_b2", mbs=2),
                   "e": ensemble("e", [S1, step("fp32_b2", {"INPUT0": "temp"}, {"OUTPUT0": "prob"})], mbs=3)},
        "expect": "ensemble e allows maximum batch size 3, but it contains model fp32_b2 which only allows maximum batch size to be 2"},
    "invalid_input_map": {
        "mirrors": "autofill_noplatform/ensemble/invalid_input_map",
        "models": dict(BASE, e=ensemble("e", [S1, step("fp32_b4_2", {"INPUT0": "temp", "nope": "data"}, {"OUTPUT0": "prob"})])),
        "expect": "in ensemble e, ensemble tensor data is mapping to non-existing input nope in model fp32_b4_2"},
    "invalid_output_map": {
        "mirrors": "autofill_noplatform/ensemble/invalid_output_map",
        "models": dict(BASE, e=ensemble("e", [step("fp32_b4", {"INPUT0": "data"}, {"nope": "temp"}), S2])),
        "expect": "in ensemble e, ensemble tensor temp is mapped from non-existing output nope in model fp32_b4"},
    "unmapped_input": {
        "mirrors": "autofill_noplatform/ensemble/unmapped_input",
        "models": {"two_in": model("two_in", inputs=(("INPUT0", "TYPE_FP32", "16"), ("INPUT1", "TYPE_FP32", "16"))),
                   "fp32_b4_2": model("fp32_b4_2"),
                   "e": ensemble("e", [step("two_in", {"INPUT1": "data"}, {"OUTPUT0": "temp"}), S2])},
        "expect": "in ensemble e, input INPUT0 in model two_in is not mapped to any ensemble tensors"},
    "optional_input_unmapped_is_fine": {
        "mirrors": "(the ensemble_utils.cc rule for optional inputs; tensorrtllm_backend's ensembles leave many unmapped)",
        "models": {"two_in": model("two_in", inputs=(("INPUT0", "TYPE_FP32", "16"), ("INPUT1", "TYPE_FP32", "16", "optional: true "))),
                   "fp32_b4_2": model("fp32_b4_2"),
                   "e": ensemble("e", [step("two_in", {"INPUT0": "data"}, {"OUTPUT0": "temp"}), S2])},
        "expect": None},
    "non_existing_model": {
        "mirrors": "autofill_noplatform/ensemble/non_existing_model",
        "models": {"fp32_b4": model("fp32_b4"), "e": ensemble("e", [S1, S2])},
        "expect": "ensemble e contains models that are not available or ambiguous: fp32_b4_2"},
    "self_circular_dependency": {
        "mirrors": "autofill_noplatform/ensemble/self_circular_dependency",
        "models": dict(BASE, e=ensemble("e", [S1, step("e", {"data": "temp"}, {"prob": "prob"})])),
        "expect": "circular dependency between ensembles: e -> ... -> e -> e"},
    "circular_dependency": {
        "mirrors": "autofill_noplatform/ensemble/circular_dependency",
        "models": {"a": ensemble("a", [step("b", {"data": "data"}, {"prob": "prob"})]),
                   "b": ensemble("b", [step("a", {"data": "data"}, {"prob": "prob"})])},
        "expect": "circular dependency between ensembles: a -> ... -> b -> a"},
    "no_required_version": {
        "mirrors": "autofill_noplatform/ensemble/no_required_version",
        "models": dict(BASE, e=ensemble("e", [step("fp32_b4", {"INPUT0": "data"}, {"OUTPUT0": "temp"}, version=2), S2])),
        "versions": {"fp32_b4": ["1"], "fp32_b4_2": ["1"]},
        "expect": "ensemble 'e' depends on 'fp32_b4' whose required version 2 is not loaded"},
    "instance_group_set": {
        "mirrors": "autofill_noplatform/ensemble/instance_group_set",
        "models": dict(BASE, e=ensemble("e", [S1, S2], extra="instance_group [ { kind: KIND_CPU } ]\n")),
        "expect": "instance group should not be specified for ensemble 'e'"},
    "optimization_set": {
        "mirrors": "autofill_noplatform/ensemble/optimization_set",
        "models": dict(BASE, e=ensemble("e", [S1, S2], extra="optimization { input_pinned_memory { enable: false } }\n")),
        "expect": "optimization should not be specified for ensemble 'e'"},
    "no_step": {
        "mirrors": "autofill_noplatform/ensemble/no_step",
        "models": dict(BASE, e=ensemble("e", [], extra="")),
        "expect": "must specify 'step' for ensemble 'e'"},
    "output_to_tensor_overmapped": {
        "mirrors": "autofill_noplatform/ensemble/output_to_tensor_overmapped",
        "models": dict(BASE, e=ensemble("e", [S1, step("fp32_b4_2", {"INPUT0": "data"}, {"OUTPUT0": "temp"}), S2])),
        "expect": "ensemble tensor 'temp' can appear in an output map only once for ensemble 'e' step 1"},
    "redundant_tensor": {
        "mirrors": "autofill_noplatform/ensemble/redundant_tensor_as_output",
        "models": {"two_out": model("two_out", outputs=(("OUTPUT0", "TYPE_FP32", "16"), ("OUTPUT1", "TYPE_FP32", "16"))),
                   "fp32_b4_2": model("fp32_b4_2"),
                   "e": ensemble("e", [step("two_out", {"INPUT0": "data"}, {"OUTPUT0": "temp", "OUTPUT1": "spare"}), S2])},
        "expect": "ensemble tensor 'spare' is unused in ensemble 'e'"},
    "unreachable_output": {
        "mirrors": "autofill_noplatform/ensemble/unreachable_output_3",
        "models": {"two_in": model("two_in", inputs=(("INPUT0", "TYPE_FP32", "16"), ("INPUT1", "TYPE_FP32", "16"))),
                   "e": ensemble("e", [step("two_in", {"INPUT0": "data", "INPUT1": "never_written"}, {"OUTPUT0": "prob"})])},
        "expect": "output 'prob' for ensemble 'e' is not written: at least one of its depending tensors, 'never_written', is not connected"},
    "unreachable_input": {
        "mirrors": "autofill_noplatform/ensemble/unreachable_input",
        "models": dict(BASE, e=ensemble("e", [S1, S2], inputs=(("data", "TYPE_FP32", "16"), ("data_2", "TYPE_FP32", "16")))),
        "expect": "ensemble input 'data_2' for ensemble e' is not used"},
    "has_backend": {
        "mirrors": "autofill_noplatform/ensemble/has_backend",
        "models": dict(BASE, e=ensemble("e", [S1, S2], platform='platform: "ensemble"\nbackend: "identity"')),
        "expect": "Ensemble model 'e' must have platform type 'ensemble' and empty backend type"},
    "ensemble_scheduling_not_set": {
        "mirrors": "autofill_noplatform/ensemble/ensemble_scheduling_no_set",
        "models": dict(BASE, e=ensemble("e", None)),
        "expect": "ensemble scheduling must be set for ensemble e whose platform is ensemble"},
    "no_input_map": {
        "mirrors": "autofill_noplatform/ensemble/no_input_map",
        "models": dict(BASE, e=ensemble("e", [S1, '{ model_name: "fp32_b4_2" output_map { key: "OUTPUT0" value: "prob" } }'])),
        "expect": "must specify 'input_map' in step 1 of ensemble 'e'"},
    "invalid_decoupled_branching": {
        "mirrors": "autofill_noplatform/ensemble/invalid_decoupled_branching",
        "models": {"rep": model("rep", mbs=0, inputs=(("IN", "TYPE_INT32", "-1"),), outputs=(("OUT", "TYPE_INT32", "-1"),), decoupled=True),
                   "rep2": model("rep2", mbs=0, inputs=(("IN", "TYPE_INT32", "-1"),), outputs=(("OUT", "TYPE_INT32", "-1"),), decoupled=True),
                   "join": model("join", mbs=0, inputs=(("A", "TYPE_INT32", "-1"), ("B", "TYPE_INT32", "-1")), outputs=(("OUT", "TYPE_INT32", "-1"),)),
                   "e": ensemble("e", [step("rep", {"IN": "IN"}, {"OUT": "a"}), step("rep2", {"IN": "IN"}, {"OUT": "b"}),
                                       step("join", {"A": "a", "B": "b"}, {"OUT": "OUT"})], mbs=0,
                                 inputs=(("IN", "TYPE_INT32", "-1"),), outputs=(("OUT", "TYPE_INT32", "-1"),))},
        # OUT is an ensemble output, so its tensor node was made by the ensemble: Triton names 'e' (as in
        # invalid_decoupled_branching_2, whose expected message names the ensemble)
        "expect": "in ensemble e, step of model 'e' receives inputs originated from different decoupled models"},
    "batching_ensemble_nonbatching_step_shapes_agree": {
        "mirrors": "autofill_noplatform_success/ensemble/inconsistent_shape (loads: [16] batching equals [-1,16] non-batching)",
        "models": {"fp32_b4": model("fp32_b4"), "nobatch": model("nobatch", mbs=0, inputs=(("INPUT0", "TYPE_FP32", "-1, 16"),), outputs=(("OUTPUT0", "TYPE_FP32", "-1, 16"),)),
                   "e": ensemble("e", [S1, step("nobatch", {"INPUT0": "temp"}, {"OUTPUT0": "prob"})])},
        "expect": None},
}
