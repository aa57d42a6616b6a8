namespace Sandbox.Protocol;

/// <summary>The yamux frame flags (spec 8.6.2).</summary>
[Flags]
internal enum YamuxFlags : ushort
{
    None = 0,
    Syn = 0x1,
    Ack = 0x2,
    Fin = 0x4,
    Rst = 0x8,
}
