using System.Runtime.InteropServices;
using Hffer.MLNet.IO;
using Hffer.MLNet.Training;

namespace Hffer.MLNet.Tests.BadInput;

/// <summary>Failures while writing and while training: the previous file survives, the message says what to do.</summary>
public class FaultTests
{
    [Fact]
    public void AWriteThatFailsHalfwayLeavesThePreviousFileAndNoTemporaryFile()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "hffer.onnx");
        File.WriteAllBytes(path, [1, 2, 3]);

        // What a full disk or a dying process looks like to the writer: the stream fails after some bytes.
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1 << 20]);
            throw new IOException("No space left on device");
        }));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void WhileASaveIsUnderWayThePreviousFileIsStillWholeSoAKillLosesNothing()
    {
        using var folder = new TemporaryFolder();
        string path = Path.Combine(folder.Path, "hffer.onnx");
        File.WriteAllBytes(path, [1, 2, 3]);
        using var halfWritten = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();

        // A process killed at this moment leaves exactly what is on disk now.
        var save = Task.Run(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[1 << 20]);
            stream.Flush();
            halfWritten.Set();
            finish.Wait();
            stream.Write(new byte[1 << 20]);
        }));
        halfWritten.Wait();
        byte[] duringSave = File.ReadAllBytes(path);
        string[] temporary = Directory.GetFiles(folder.Path, "*" + AtomicFile.TemporarySuffix);
        finish.Set();
        save.Wait();

        Assert.Equal([1, 2, 3], duringSave);
        Assert.Single(temporary);
        Assert.Equal(2 << 20, new FileInfo(path).Length);
        Assert.Empty(Directory.GetFiles(folder.Path, "*" + AtomicFile.TemporarySuffix));
    }

    [Fact]
    public void LibtorchAllocationFailuresBecomeAdviceAboutTheBatchSize()
    {
        var cpu = new ExternalException("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough " +
            "memory: you tried to allocate 123456789012 bytes.");
        var cuda = new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB");
        var other = new ExternalException("mat1 and mat2 shapes cannot be multiplied");

        var explained = OutOfMemory.Explain(cpu, epoch: 3, step: 17, batchSize: 64, "CPU");

        Assert.True(OutOfMemory.Is(cpu) && OutOfMemory.Is(cuda) && OutOfMemory.Is(new OutOfMemoryException()));
        Assert.False(OutOfMemory.Is(other));
        Assert.StartsWith("Training ran out of memory on the CPU at epoch 3, step 17 with 64 images per batch. Set " +
            "HfferOptions.BatchSize lower (try 32)", explained.Message);
        Assert.Same(cpu, explained.InnerException);
    }
}
