// The command line is a layer over the experiment engine: its types are used everywhere here.
global using Plastic.Experiments;
global using Plastic.Experiments.Compare;
global using Plastic.Experiments.Runs;
