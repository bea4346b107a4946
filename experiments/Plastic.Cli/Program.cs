using Plastic.Cli;

return PlasticCommand.Run(args);
