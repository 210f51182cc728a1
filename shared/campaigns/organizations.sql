-- Organizations and their members.

-- name: get-membership
SELECT organization_id, user_id, role
FROM organization_members
WHERE organization_id = %(organization_id)s AND user_id = %(user_id)s;
