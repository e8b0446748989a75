# The puppet config of the conformance test: inputs arrive as facts.
notify { "hello ${facts['who']} from ${facts['deploy_resource_name']} (${facts['deploy_action']})": }
file { "${facts['heat_outputs_path']}.greeting":
  content => "puppet greets ${facts['who']}",
}
