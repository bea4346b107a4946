using Plastic.Tests.Support;

namespace Plastic.Tests.Compute;

public sealed class CpuBackendTests(CpuFixture f) : BackendContract<CpuFixture>(f);
public sealed class CpuSingleThreadBackendTests(CpuSingleThreadFixture f) : BackendContract<CpuSingleThreadFixture>(f);
public sealed class CpuAvx2BackendTests(CpuAvx2Fixture f) : BackendContract<CpuAvx2Fixture>(f);
public sealed class CpuVector128BackendTests(CpuVector128Fixture f) : BackendContract<CpuVector128Fixture>(f);
public sealed class CpuWinogradBackendTests(CpuWinogradFixture f) : BackendContract<CpuWinogradFixture>(f);
public sealed class CpuWinogradScalarBackendTests(CpuWinogradScalarFixture f) : BackendContract<CpuWinogradScalarFixture>(f);
