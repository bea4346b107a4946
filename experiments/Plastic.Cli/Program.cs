using Plastic.Cli;

return PlasticCommand.Build().Parse(args).Invoke();
