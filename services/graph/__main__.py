from services.graph.app import build
from services.graph.settings import Settings
from services.runtime.server import main

main(Settings.from_env, build)
