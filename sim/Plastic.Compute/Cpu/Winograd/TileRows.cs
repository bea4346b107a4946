namespace Plastic.Compute.Cpu.Winograd;

/// <summary>
/// How a batch's output is cut into 2x2 tiles: TilesW tiles per tile row, TilesH tile rows per image,
/// and N * TilesH tile rows in the batch, numbered g = n * TilesH + th. Work is handed out in whole tile
/// rows, so the tiles of a block are (g - first) * TilesW + tw, contiguous along tw.
/// </summary>
internal readonly record struct TileRows(ConvDims Dims)
{
    public int TilesH => (Dims.Ho + 1) / 2;
    public int TilesW => (Dims.Wo + 1) / 2;
    public int Count => Dims.N * TilesH;

    /// <summary>Tile rows per block so that a block holds about <paramref name="tiles"/> tiles (at least one row).</summary>
    public int RowsFor(int tiles) => Math.Clamp(tiles / TilesW, 1, Count);
}
