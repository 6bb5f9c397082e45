#!/usr/bin/env bash
# Scoring throughput of the exported HFFER graph with ONNX Runtime's CUDA execution provider, batch sizes 1-256.
# Usage: benchmarks/Hffer.MLNet.CudaScoring/measure-cuda.sh [--device 0] [--preset paper|small] [--onnx model.onnx]
#        [--batches 1,2,4,...] [--seconds 3] [--allow-cpu]
# Needs an NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path (what ONNX Runtime's CUDA build loads).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project benchmarks/Hffer.MLNet.CudaScoring -- "$@"
