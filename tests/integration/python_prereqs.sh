# Sourced by the Python integration tests: sets $py, or exits 77 (ctest: skipped) naming the
# missing prerequisite (python3 with grpc, the bundled model under $src, the dataset).
py=/usr/bin/python3
[ -x "$py" ] || { echo "skip: no /usr/bin/python3"; exit 77; }
"$py" -c "import grpc, grpc_tools" 2>/dev/null || { echo "skip: python3-grpcio/python3-grpc-tools missing"; exit 77; }
[ -f "$src/models/smallres28.asb" ] || { echo "skip: no bundled model"; exit 77; }
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || { echo "skip: no dataset"; exit 77; }
