#!/usr/bin/env bash
# Scoring throughput of the exported HFFER graph with ONNX Runtime's CUDA execution provider, batch sizes 1-256.
# Usage: benchmarks/Hffer.MLNet.CudaScoring/measure-cuda.sh [--device 0] [--preset paper|small] [--onnx model.onnx]
#        [--batches 1,2,4,...] [--seconds 3] [--allow-cpu]
# Needs an NVIDIA driver and the CUDA 13 and cuDNN 9 libraries on the library path: ONNX Runtime 1.32's CUDA
# build loads libcudart, libcublasLt.so.13 and libcudnn. Exit status 3: no usable CUDA execution provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project benchmarks/Hffer.MLNet.CudaScoring -- "$@"
