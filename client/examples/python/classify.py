#!/usr/bin/python3
"""Classify Fashion-MNIST test images through adaspringd from Python.

Uses Debian's python3-grpcio; the adaspring.v1 stubs are generated at run time from the
project's proto/ directory with python3-grpc-tools (`python3 -m grpc_tools.protoc`) into a
temporary directory, so nothing has to be installed. Run it with /usr/bin/python3 (a pyenv
python3 earlier on PATH does not have Debian's grpcio):

    /usr/bin/python3 client/examples/python/classify.py --count 200
    /usr/bin/python3 client/examples/python/classify.py --socket /tmp/rt/adaspringd.sock

Only common.proto and inference.proto are compiled: the protoc inside Debian's grpc-tools
1.14 predates proto3 `optional`, which admin.proto uses.
"""

import argparse
import gzip
import os
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto"))
DATA_DIR = "/usr/share/datasets/fashion-mnist"


def default_socket():
    """Same order as the C++ library: system socket, then the user-mode ones."""
    system = "/run/adaspring/adaspringd.sock"
    if os.path.exists(system):
        return system
    candidates = []
    if os.environ.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "adaspring",
                                       "adaspringd.sock"))
    candidates.append("/tmp/adaspring-%d/adaspringd.sock" % os.getuid())
    for c in candidates:
        if os.path.exists(c):
            return c
    return candidates[0]


def generate_stubs(proto_dir, out_dir):
    from grpc_tools import protoc  # python3-grpc-tools
    protos = [os.path.join(proto_dir, "adaspring", "v1", name)
              for name in ("common.proto", "inference.proto")]
    rc = protoc.main(["grpc_tools.protoc", "-I" + proto_dir, "--python_out=" + out_dir,
                      "--grpc_python_out=" + out_dir] + protos)
    if rc != 0:
        sys.exit("classify.py: protoc failed on %s" % proto_dir)
    sys.path.insert(0, out_dir)


def read_idx(path, magic):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    got, count = struct.unpack(">II", data[:8])
    if got != magic:
        sys.exit("classify.py: %s is not an IDX file of the expected kind" % path)
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return count, rows, cols, data[16:]
    return count, data[8:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", default=default_socket(), help="app socket of adaspringd")
    ap.add_argument("--model", default="smallres28", help="loaded model (default smallres28)")
    ap.add_argument("--count", type=int, default=500, help="test images to classify")
    ap.add_argument("--budget-ms", type=float, default=20.0, help="latency budget of the session")
    ap.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR, help="the project's proto/ dir")
    ap.add_argument("--data", default=DATA_DIR, help="Fashion-MNIST directory")
    args = ap.parse_args()

    import grpc  # python3-grpcio

    with tempfile.TemporaryDirectory(prefix="adaspring-py-") as tmp:
        generate_stubs(args.proto_dir, tmp)
        from adaspring.v1 import common_pb2, inference_pb2, inference_pb2_grpc

        n, rows, cols, pixels = read_idx(os.path.join(args.data, "t10k-images-idx3-ubyte.gz"),
                                         0x803)
        _, labels = read_idx(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"), 0x801)
        count = min(args.count, n)

        if not os.path.exists(args.socket):
            sys.exit("classify.py: adaspringd is not running (no socket at %s)" % args.socket)
        channel = grpc.insecure_channel("unix:" + args.socket)
        stub = inference_pb2_grpc.InferenceStub(channel)
        try:
            session = stub.OpenSession(inference_pb2.OpenSessionRequest(
                app_name="classify-py", model=args.model,
                slo=common_pb2.Slo(latency_budget_us=int(args.budget_ms * 1000),
                                   energy_preference=common_pb2.ENERGY_PREFERENCE_BALANCED)),
                timeout=10)
        except grpc.RpcError as e:
            sys.exit("classify.py: %s: %s" % (e.code().name, e.details()))
        print("session %s, configuration %s" % (session.session_id,
                                                session.configuration.text))
        size = rows * cols
        correct, latencies, served_by = 0, [], {}
        for i in range(count):
            # Each request reports the end-to-end latency of the previous one, so that the
            # daemon keeps what this app sees (not only its own queue + compute) in budget.
            req = inference_pb2.InferRequest(
                session_id=session.session_id, token=session.token, request_id=i, top_k=1,
                input=common_pb2.Tensor(dtype=common_pb2.DATA_TYPE_UINT8,
                                        shape=[1, 1, rows, cols],
                                        raw_contents=pixels[i * size:(i + 1) * size]),
                reported_latency_us=int(latencies[-1] * 1000) if latencies else 0)
            t0 = time.perf_counter()
            resp = stub.Infer(req, timeout=10)
            latencies.append((time.perf_counter() - t0) * 1000.0)
            correct += resp.top_k[0].index == labels[i]
            served_by[resp.configuration] = served_by.get(resp.configuration, 0) + 1
        stub.CloseSession(inference_pb2.CloseSessionRequest(session_id=session.session_id,
                                                            token=session.token))
        latencies.sort()
        print("images %d, accuracy %.2f%%" % (count, 100.0 * correct / count))
        print("latency p50 %.3f ms, p99 %.3f ms" % (latencies[len(latencies) // 2],
                                                    latencies[int(0.99 * (len(latencies) - 1))]))
        for config, k in served_by.items():
            print("  %6d images by %s" % (k, config))


if __name__ == "__main__":
    main()
