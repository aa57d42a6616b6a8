namespace Sandbox.AgentTools;

/// <summary>Captured output as shown to the model, with the size of what was actually produced.</summary>
/// <param name="Text">The kept text (head and tail with an omission note when truncated).</param>
/// <param name="TotalBytes">UTF-8 bytes produced in total.</param>
/// <param name="Truncated">True when part of the output was omitted.</param>
internal sealed record TruncatedText(string Text, long TotalBytes, bool Truncated);
