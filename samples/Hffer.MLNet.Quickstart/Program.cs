using TorchSharp;
var t = torch.ones(3) * 2;
System.Console.WriteLine(t.sum().item<float>());
