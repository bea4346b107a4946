using System.Runtime.Intrinsics;

namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// One image row (or a combination of rows) of 16 input tiles at the tiles' columns: E0 and O0 the first two
/// (even and odd columns of the row at tw), E1 and O1 the next two (at tw + 1).
/// </summary>
internal readonly struct TileColumns(Vector512<float> e0, Vector512<float> o0, Vector512<float> e1, Vector512<float> o1)
{
    public Vector512<float> E0 => e0;
    public Vector512<float> O0 => o0;
    public Vector512<float> E1 => e1;
    public Vector512<float> O1 => o1;

    /// <summary>From split rows: tile tw reads columns tw and tw + 1 of each half.</summary>
    public static unsafe TileColumns Load(float* even, float* odd) =>
        new(Vector512.Load(even), Vector512.Load(odd), Vector512.Load(even + 1), Vector512.Load(odd + 1));

    public static TileColumns operator +(TileColumns a, TileColumns b) => new(a.E0 + b.E0, a.O0 + b.O0, a.E1 + b.E1, a.O1 + b.O1);
    public static TileColumns operator -(TileColumns a, TileColumns b) => new(a.E0 - b.E0, a.O0 - b.O0, a.E1 - b.E1, a.O1 - b.O1);
}
