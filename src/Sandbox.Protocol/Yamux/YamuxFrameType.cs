namespace Sandbox.Protocol;

/// <summary>The yamux frame types (spec 8.6.2).</summary>
internal enum YamuxFrameType : byte
{
    Data = 0,
    WindowUpdate = 1,
    Ping = 2,
    GoAway = 3,
}
