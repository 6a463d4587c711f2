from metrics_bridge.main import main

main()
