"""Runs KServe's own Python client (kserve.InferenceRESTClient) against a running droptune
serving process, V1 and V2, and prints what each call answered as one JSON document.

Usage (in .venv-kserve): python client_check.py BASE_URL MODEL_NAME TEXT [TEXT ...]
The assertions live in training-image/tests/test_kserve_client.py, which runs this script:
kserve cannot be installed beside the trainer's lock (see requirements.txt here).
"""

import asyncio
import json
import sys

import httpx
from kserve import InferInput, InferRequest, InferenceRESTClient, RESTConfig


async def v1(base_url: str, model: str, texts: list[str]) -> dict:
    client = InferenceRESTClient(RESTConfig(protocol="v1", timeout=30))
    try:
        predicted = await client.infer(base_url, {"instances": texts}, model_name=model)
        return {
            "server_live": await client.is_server_live(base_url),
            "model_ready": await client.is_model_ready(base_url, model),
            "predict": predicted,
            "models": httpx.get(f"{base_url}/v1/models").json(),
        }
    finally:
        await client.close()


async def v2(base_url: str, model: str, texts: list[str]) -> dict:
    client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
    try:
        text = InferInput(name="text", shape=[len(texts)], datatype="BYTES", data=texts)
        response = await client.infer(base_url, InferRequest(model_name=model, infer_inputs=[text], request_id="r1"), model_name=model)
        binary = InferInput(name="text", shape=[len(texts)], datatype="BYTES")
        import numpy as np

        binary.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=np.object_), binary_data=True)
        response_binary = await client.infer(base_url, InferRequest(model_name=model, infer_inputs=[binary]), model_name=model)
        return {
            "server_live": await client.is_server_live(base_url),
            "server_ready": await client.is_server_ready(base_url),
            "model_ready": await client.is_model_ready(base_url, model),
            "unknown_model_ready": await client.is_model_ready(base_url, "no-such-model"),
            "metadata": httpx.get(f"{base_url}/v2/models/{model}").json(),
            "infer": {
                "id": response.id,
                "model_name": response.model_name,
                "outputs": {o.name: {"datatype": o.datatype, "shape": o.shape, "data": o.as_numpy().tolist()} for o in response.outputs},
            },
            "infer_binary_labels": [
                x.decode() if isinstance(x, bytes) else x for x in response_binary.outputs[0].as_numpy().tolist()
            ],
        }
    finally:
        await client.close()


def main() -> None:
    base_url, model, *texts = sys.argv[1:]
    out = {"v1": asyncio.run(v1(base_url, model, texts)), "v2": asyncio.run(v2(base_url, model, texts))}
    print(json.dumps(out, default=lambda x: x.decode() if isinstance(x, bytes) else str(x)))


if __name__ == "__main__":
    main()
