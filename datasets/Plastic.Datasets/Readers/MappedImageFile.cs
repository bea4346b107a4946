using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Plastic.Datasets.Readers;

/// <summary>
/// A file of decoded images mapped read-only into memory and cut into blocks of whole images of at most
/// 2^31 - 1 bytes (what one Memory can span): the pages are the operating system's to load and drop, so a
/// cache larger than memory still reads. The mapping lives while any block is referenced.
/// </summary>
internal sealed unsafe class MappedImageFile
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _start;

    private MappedImageFile(string path, long length)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _start = pointer + _view.PointerOffset;
    }

    ~MappedImageFile()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>The first <paramref name="length"/> bytes of <paramref name="path"/> as blocks of whole images of <paramref name="imageSize"/> bytes.</summary>
    public static ReadOnlyMemory<byte>[] Blocks(string path, long length, int imageSize)
    {
        var file = new MappedImageFile(path, length);
        long perBlock = int.MaxValue / imageSize * (long)imageSize;
        var blocks = new List<ReadOnlyMemory<byte>>();
        for (long offset = 0; offset < length; offset += perBlock)
            blocks.Add(new Block(file, offset, (int)Math.Min(perBlock, length - offset)).Memory);
        return [.. blocks];
    }

    /// <summary>One block of the mapping; it keeps the mapping alive.</summary>
    private sealed class Block(MappedImageFile file, long offset, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(file._start + offset, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(file._start + offset + elementIndex);

        public override void Unpin()
        {
            // The mapping does not move: nothing to release.
        }

        protected override void Dispose(bool disposing)
        {
            // The mapping is released when the last block is unreachable (MappedImageFile's finalizer).
        }
    }
}
