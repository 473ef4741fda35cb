"""The `zoo` command line: the top layer, which may import everything (`zoo`, `training`,
`export`); nothing imports it. `zoo_cli.main.main` is the console script. Argument
declarations (`*_arguments`) import no keras, so parsing is instant; each command's
module (`models`, `predict`, `inspect_model`, `images`, `train`, `export_model`, `data`,
`snapshot`, `demo`, `quickstart`) is imported when that command runs."""
