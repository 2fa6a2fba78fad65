from behavstats.cli import app

app(prog_name="behavstats")
