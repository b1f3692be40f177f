"""`rampart local`: run a stack's services on the local Docker Engine from the tasks its plan registers.

Pieces, top-down:
  tasks       the plan's task definitions, images, routes (the one description of what runs)
  scope       what a run is keyed by: the Pulumi project and the stack (labels and names)
  fidelity    what Fargate would refuse, refused here before anything runs
  containers  an ECS container definition -> Docker Engine API create arguments
  volumes     task volumes as Fargate mounts them
  secrets     the local secrets file and the sidecar's locally generated TLS pair
  edge        the local stand-in for the load balancer (nginx, routes from the listener rules)
  engine      build, start in dependsOn order, status, logs, down, all found by label
  compose     the same tasks as a Compose Specification file
  command     the `rampart local` subcommands
"""
